// Package blobs keeps attachments (receipts, quotes, contracts): a small
// Store interface with a local-folder implementation (the default) and an
// S3-compatible one for several replicas, the checks a file passes before
// it is kept (size, sniffed content type, no executables), and signed,
// expiring links to one file for one viewer, served by Handler.
//
// A blob is written completely before its key is returned: the local
// store writes a temporary file, syncs it and renames it into place; S3
// shows an object only once its upload completed. A process killed
// mid-upload therefore leaves no key that names half a file, and the
// caller stores the reference only after Save returned.
//
// blobs imports nothing of this repository; cmd/flowbot wires it (the
// rights check of Handler is a function given by the caller).
package blobs
