import { createLogger } from '../../libs/observability/src';

export const quietLogger = createLogger('silent', 'test');
