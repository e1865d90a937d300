"""The cost model (``make cost``): public AWS list prices per Region (``prices/<region>.json``)
times the units one payment uses on the emulator's meter (``bench/results.json``), plus the
fixed monthly floor each environment's Terraform plans (``inventory.json``)."""
