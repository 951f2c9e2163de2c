"""Loading transformed records into the final tables with bulk upserts."""
