// Package seen owns the adapters' short memory of platform ids (message,
// activity and callback ids) used to drop a redelivery the platform sends
// while the bot's own dedupe is not involved. It imports nothing of this
// repository; adapters share it as the stores share store/internal.
package seen
