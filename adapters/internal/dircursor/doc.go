// Package dircursor is the page cursor the directory sources of the
// adapters share: first the departments, page by page, then the users of
// each department in turn, page by page. It is a string so that dirsync
// can persist it; Parse refuses anything it did not write.
package dircursor
