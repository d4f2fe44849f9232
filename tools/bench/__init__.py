"""Helpers of `make bench` (tools/bench.py): the emulator as a measured process, measured connector runs,
Airbyte's connector (airbyte-source-twilio 0.16.0) pointed at the emulator, and the report.
"""
