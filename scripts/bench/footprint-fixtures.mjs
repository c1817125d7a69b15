// Footprint fixtures: the config (and local peers) that enable every feature the agent has, on loopback only.
/** Returns { config, env, features, stop() }; extended as features land (probes, node actions, buffer, routes). */
export async function startFootprintFixtures() {
  const features = [];
  const config = {};
  const stops = [];
  return {
    config,
    env: {},
    features,
    async stop() {
      for (const s of stops.reverse()) await s();
    },
  };
}
