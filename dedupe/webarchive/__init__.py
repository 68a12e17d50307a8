"""Web archives in and out: WARC/ARC/WACZ reading, WARC export, CDX and Memento backfill."""
