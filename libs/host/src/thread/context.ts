/** What an in-thread host function knows about the calling plugin. */
export interface ThreadContext {
  readonly pluginId: string;
  readonly config: Readonly<Record<string, string>>;
}
