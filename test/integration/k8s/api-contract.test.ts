/** Runs the NodeApi contract suite against both adapters: lean (undici) and @kubernetes/client-node. */
import { nodeApiContract } from '../../support/k8s-api-contract.ts';
import { createLeanApi } from '../../../agent/k8s/lean-api.ts';
import { createClientNodeApi } from '../../../agent/k8s/client-node-api.ts';

nodeApiContract('lean', (source, timeoutMs) => createLeanApi(source, timeoutMs));
nodeApiContract('client-node', (source, timeoutMs) => createClientNodeApi(source, timeoutMs));
