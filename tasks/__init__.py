"""Task designs shipped with cogarb (installed as ``cogarb.builtin_tasks``)."""
