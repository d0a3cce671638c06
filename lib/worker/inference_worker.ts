/**
 * Worker entry of the inference pool (`./pool.ts`); messages in `./protocol.ts`.
 *
 * @module
 */
import { serveJobs } from "./serve_jobs.ts";

serveJobs();
