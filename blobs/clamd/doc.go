// Package clamd asks a ClamAV daemon (clamd) whether a file carries a
// virus, with the INSTREAM command over TCP or a unix socket: the file is
// sent as chunks, each after its length as 4 big-endian bytes, ended by a
// zero length, and clamd answers "stream: OK" or "stream: <name> FOUND".
//
// A Client implements blobs.Scanner, so the file is scanned while it is
// written to the blob store and a file found infected is never kept.
// ParseReply reads clamd's answer; it is fuzzed.
//
// clamd imports nothing of this repository. clamdtest is an in-process
// clamd that speaks the same protocol, for tests.
package clamd
