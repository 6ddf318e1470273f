"""The sandbox core: instances, World, table registry, seed and ticket loaders, check registry, the trainee's loop."""
