/** Placeholder simulator: replaced by the real one (issue 2). */
export default {
  async fetch(req: Request): Promise<Response> {
    return Response.json({ sim: true, path: new URL(req.url).pathname });
  },
};
