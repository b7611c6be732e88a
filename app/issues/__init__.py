"""Issues: drafting with optimistic concurrency, revisions, the lifecycle and approval (which freezes
the rendering), the rendering context, Jekyll import and export."""
