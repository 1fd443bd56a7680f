/**
 * A small local Redis Cluster for a test file: three primaries on free loopback ports (each with
 * its own free cluster-bus port), joined with `redis-cli --cluster create`. Returns undefined with
 * the reason when this machine cannot run one (no redis-cli, or a redis-server without cluster support).
 */
import { spawnSync } from 'node:child_process';
import { freePort, startRedis, type RedisServer } from './redis.js';

export interface RedisCluster {
  ports: number[];
  /** a URL of one node: enough for a cluster client to find the others */
  url: string;
  stop(): Promise<void>;
}

export async function startRedisCluster(size = 3): Promise<RedisCluster | string> {
  if (spawnSync('redis-cli', ['--version']).status !== 0) return 'redis-cli is not installed';
  const nodes: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    for (let i = 0; i < size; i++) {
      const bus = await freePort();
      nodes.push(await startRedis(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(bus), '--cluster-node-timeout', '5000']));
    }
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30000 });
    if (create.status !== 0) {
      await stop();
      return `redis-cli --cluster create failed: ${(create.stderr || create.stdout).trim().split('\n').pop()}`;
    }
    const until = Date.now() + 20000;
    for (const n of nodes) {
      for (;;) {
        const info = spawnSync('redis-cli', ['-p', String(n.port), 'cluster', 'info'], { encoding: 'utf8' }).stdout;
        if (/cluster_state:ok/.test(info) && /cluster_known_nodes:(\d+)/.exec(info)?.[1] === String(size)) break;
        if (Date.now() > until) throw new Error(`the cluster did not become ready: ${info}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return { ports: nodes.map((n) => n.port), url: nodes[0].url, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
