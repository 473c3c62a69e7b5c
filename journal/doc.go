// Package journal records a campaign durably, so that a send killed at any moment can be
// resumed without losing a row or a receipt and without sending again what was accepted.
//
// A journal is an append-only file: a versioned header, then checksummed records (see
// format.go for the layout) for the campaign identity, where its report is written, each
// submit attempt, each response, each receipt and a clean-end marker. A Writer appends with
// group commit; Load rebuilds the State that --resume needs; Replay reads the raw records; a
// Spool keeps receipts that belong to no running campaign. A crash can tear only the end of
// the file: Load reports such a tail and Open cuts it, while damage before the end is an error
// naming the byte.
package journal
