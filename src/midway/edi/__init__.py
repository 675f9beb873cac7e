"""EDI trading partners: X12 documents in and out of Midway's services.

The X12 engine (``midway.integrations.edi``) reads and writes the bytes; this package knows
who the partners are, turns their documents into the commands the API uses (and Midway's
events into documents for them), keeps a record of every document exchanged, and moves files
through per-partner folders.
"""
