"""Open Referral HSDS 3.0 in and out: the public profile (export and read API) and the importer.

The public profile never contains a location that is not public, never a professionals-only
phone, and live availability only where the facility chose to publish it. House rules that HSDS
cannot express travel as ``attributes`` under the Refuge taxonomy (taxonomy.py).
"""
