//! school_export: the credentials CSV of a school of 10,000 learners —
//! time to the last byte, whether it streams, and keyward's extra memory.
