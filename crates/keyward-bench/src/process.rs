//! Readings of a process from outside: resident memory (VmRSS, VmHWM), CPU
//! time (utime + stime) and minor page faults from `/proc/PID/stat`.
