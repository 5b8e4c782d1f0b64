import { networkFailures } from './helpers/network-failures.js';
import { service } from './helpers/services.js';
import { storeContract } from './helpers/store-contract.js';

const postgres = await service('PostgreSQL', 'P2FS_TEST_POSTGRES_URL', 'postgresql://postgres@127.0.0.1:5432/test');
storeContract(postgres.name, postgres);
networkFailures(postgres);
