"""Software-defined assets: sources (landing → staging), SQL models, evaluation."""
