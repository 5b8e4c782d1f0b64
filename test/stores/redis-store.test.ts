import { networkFailures } from './helpers/network-failures.js';
import { service } from './helpers/services.js';
import { storeContract } from './helpers/store-contract.js';

const redis = await service('Redis', 'P2FS_TEST_REDIS_URL', 'redis://127.0.0.1:6379');
storeContract(redis.name, redis);
networkFailures(redis);
