"""The screens of the station: the drive list and the dialogs it opens."""
