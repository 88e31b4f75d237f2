//! class_reset: a whole-class reset of 30 learners with one new password
//! each, as the demo lead teacher, against 30 hashes spread over the cores.
