package wecom

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"

	"github.com/silenceper/wechat/v2/util"
)

const blockSize = 32 // WeCom's PKCS#7 block size

var errDecrypt = errors.New("cannot decrypt")

// signatureOK checks msg_signature = sha1(sort(token, timestamp, nonce,
// x)) in constant time.
func signatureOK(token, ts, nonce, x, sig string) bool {
	want := util.Signature(token, ts, nonce, x)
	return subtle.ConstantTimeCompare([]byte(want), []byte(sig)) == 1
}

// decryptMsg decrypts a base64 ciphertext with key and returns the message
// and the receiveid. Unlike the SDK it checks every padding byte.
func decryptMsg(b64 string, key []byte) (msg []byte, receiveID string, err error) {
	ct, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(ct) < blockSize || len(ct)%aes.BlockSize != 0 {
		return nil, "", errDecrypt
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, "", errDecrypt
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, key[:16]).CryptBlocks(pt, ct)
	pad := int(pt[len(pt)-1])
	if pad < 1 || pad > blockSize || pad > len(pt) {
		return nil, "", errDecrypt
	}
	for _, b := range pt[len(pt)-pad:] {
		if int(b) != pad {
			return nil, "", errDecrypt
		}
	}
	pt = pt[:len(pt)-pad]
	if len(pt) < 20 {
		return nil, "", errDecrypt
	}
	n := binary.BigEndian.Uint32(pt[16:20])
	if uint64(n) > uint64(len(pt)-20) {
		return nil, "", errDecrypt
	}
	return pt[20 : 20+n], string(pt[20+n:]), nil
}
