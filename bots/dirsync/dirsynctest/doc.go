// Package dirsynctest is the conformance suite of dirsync.Source: Run
// drives one platform's fake through adds, renames, moves, departures,
// conflicts, rate limits and a crash mid-sync, and checks the directory a
// real store ends up with; RunStore checks a store's sync progress,
// preferred platforms and the user fields sync writes. It also has Memory,
// an in-process Platform for the tests of dirsync itself. Only tests
// import it.
package dirsynctest
