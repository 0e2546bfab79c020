"""Sub-commands of the `nnplug` CLI; each module has `register(subparsers)`."""
