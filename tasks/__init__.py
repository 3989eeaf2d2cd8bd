"""Task designs shipped with cogarb (installed as ``cogarb._task_files``)."""
