"""The drawings people labelled: ``store`` keeps them (SQLite), ``intake`` turns a post into a
stored sample, ``export`` writes and reads the ``.npz`` an admin downloads and imports, ``trash``
keeps a deleted drawing aside for a while so that its delete can be undone."""
