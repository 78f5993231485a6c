/** HTTP routes of the Jobs API (`v1.0-alpha1/jobs/{name}`: POST schedules, GET reads, DELETE removes). */
import type { JobsBlock } from './jobs-block.js';
import { decodeJobBody, encodeJob } from '../../jobs/job-codec.js';
import type { HttpRequestContext, HttpRoute } from '../../api/http/types.js';
import { jsonReply, noContent } from '../../api/http/types.js';

/** The jobs routes over a {@link JobsBlock}. */
export function jobsRoutes(jobs: JobsBlock): HttpRoute[] {
  const name = (req: HttpRequestContext) => req.params['name'] ?? '';
  return [
    {
      methods: ['POST'],
      path: '/v1.0-alpha1/jobs/:name',
      group: 'jobs',
      name: 'ScheduleJob',
      handler: async (req) => {
        const { spec, overwrite } = decodeJobBody(name(req), req.body, jobs.errorMetadata);
        await jobs.schedule(spec, overwrite);
        return noContent();
      },
    },
    { methods: ['GET'], path: '/v1.0-alpha1/jobs/:name', group: 'jobs', name: 'GetJob', handler: async (req) => jsonReply(200, encodeJob(await jobs.get(name(req)))) },
    {
      methods: ['DELETE'],
      path: '/v1.0-alpha1/jobs/:name',
      group: 'jobs',
      name: 'DeleteJob',
      handler: async (req) => {
        await jobs.delete(name(req));
        return noContent();
      },
    },
  ];
}
