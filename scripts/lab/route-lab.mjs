// Route failover lab by hand (root): `node scripts/lab/route-lab.mjs up` builds lwr-edge/lwr-gw1/lwr-gw2/lwr-inet with a
// TCP target on 10.201.99.1:7000 (and 7001 for downloads); `down` removes them. Tests and the bench build their own.
import { createLab, removeLab, NS } from '../../test/support/route-lab.ts';

const verb = process.argv[2];
if (verb === 'up') {
  const server = createLab();
  server.stdout.once('data', () => {
    console.log(`lab up: ${Object.values(NS).join(', ')}; target server pid ${server.pid} (stop with: node scripts/lab/route-lab.mjs down)`);
    server.unref();
    server.stdout.destroy();
    process.exit(0);
  });
} else if (verb === 'down') {
  removeLab();
  console.log('lab removed');
} else {
  console.error('usage: node scripts/lab/route-lab.mjs up|down');
  process.exit(2);
}
