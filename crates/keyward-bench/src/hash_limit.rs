//! The machine's hashing limit: Argon2id with keyward's parameters, one
//! hashing thread per core, no server — for the hash keyward uses and for the
//! reference C implementation built for this CPU. The fastest is the limit
//! sign-ins are divided by.
