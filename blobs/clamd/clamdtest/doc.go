// Package clamdtest is an in-process clamd for tests: it speaks clamd's
// INSTREAM protocol (the "zINSTREAM\0" or "nINSTREAM\n" command, chunks
// each after a 4-byte big-endian length, a zero length at the end) over
// TCP or a unix socket, finds the EICAR test string, and answers
// "stream: OK" or "stream: Eicar-Test-Signature FOUND" as clamd does. It
// can be slowed, made to answer garbage, limited in stream size, and
// stopped, to test what a client does when clamd misbehaves.
package clamdtest
