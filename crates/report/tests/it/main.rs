//! The exports on the county library and a round with work in it: each file read back
//! with calamine (and the 责任分工表 with the importer), converted by LibreOffice, and the
//! 任务台账's numbers checked against the statistics layer.

mod common;

mod agree;
mod ledger;
mod progress;
mod responsibility;
