"""The pharmacy tables with scanning, cabinets and robots: NDC and barcode parsing, engine, screens, checks."""
