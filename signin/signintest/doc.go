// Package signintest holds the conformance suite of signin.Store. Only
// _test.go files import it.
package signintest
