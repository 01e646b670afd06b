"""Data: corpus readers, token arrays and batches, and the embedded world (`lmlab.data.world`)."""
