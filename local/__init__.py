"""Local AWS emulator glue: moto in server mode plus the pieces moto lacks here."""
