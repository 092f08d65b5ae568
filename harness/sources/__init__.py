"""Where lines come from besides generators: standard input, files (plain or
.gz) and s3:// prefixes, read as chunks of whole lines (inputs.py picks the
reader). I/O only; imports the ground (errors, aws)."""
