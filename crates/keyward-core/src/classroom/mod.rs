//! A teacher's tools for the people in their classes, on top of `schools`:
//! one learner's **Reset password** (`passwords`, R-TCH-1/2/4), the whole
//! class under a lease (`class_reset`, R-TCH-3), **Show access codes** and the
//! credentials CSV (`credentials`, R-TCH-5), and the roster import
//! (`roster`, R-TCH-6). Every use case authorizes first.

pub mod class_reset;
pub mod credentials;
pub mod passwords;
pub mod roster;
