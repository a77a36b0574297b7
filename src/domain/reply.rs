//! Building the REPLY calendar (R1.x, R2.x) and the iMIP message around it.

pub mod message;
