import { z } from 'zod';

/** A weight or a rate in [0, 1]. */
export const unitInterval = z.number().min(0).max(1);
