"""No models: the app exists so that post_migrate is sent for it (config.cachetable.apps)."""
