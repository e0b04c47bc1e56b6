"""The console's screens: one per area, plus the dialogs they open."""
