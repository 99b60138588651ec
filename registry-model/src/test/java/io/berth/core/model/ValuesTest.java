package io.berth.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ValuesTest {
    private static final String HEX64 = "a".repeat(64);

    @Test
    void digestsParseForSha256AndSha512() {
        Digest d = Digest.parse("sha256:" + HEX64);
        assertEquals(DigestAlgorithm.SHA256, d.algorithm());
        assertEquals("sha256:" + HEX64, d.toString());
        Digest e = Digest.parse("sha512:" + "b".repeat(128));
        assertEquals(DigestAlgorithm.SHA512, e.algorithm());
        assertEquals(
                Digest.compute(DigestAlgorithm.SHA256, new byte[0]).toString(),
                "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "sha256",
                "sha256:",
                "sha256:ABC",
                "md5:" + "a",
                "sha256:" + "g",
                "sha256:../../etc",
                ":abc",
                "sha512:aaaa",
                "sha256:" + "A"
            })
    void invalidDigestsAreDigestInvalid(String text) {
        RegistryException e = assertThrows(RegistryException.class, () -> Digest.parse(text));
        assertEquals(ErrorCode.DIGEST_INVALID, e.code());
    }

    /** Right length, wrong characters: only the lower-case hex check can refuse these. */
    @ParameterizedTest
    @ValueSource(
            strings = {
                "sha256:" + "A",
                "sha256:" + "g",
                "sha256:" + "/",
                "sha256:" + ".",
                "sha256:" + "-",
                "sha256:" + "\u00e9",
                "sha512:" + "Z",
                "sha512:" + " "
            })
    void digestsOfTheRightLengthWithWrongCharactersAreInvalid(String prefixAndChar) {
        int colon = prefixAndChar.indexOf(':');
        String alg = prefixAndChar.substring(0, colon);
        String bad = prefixAndChar.substring(colon + 1);
        int length = alg.equals("sha256") ? 64 : 128;
        String text = alg + ":" + "a".repeat(length - 1) + bad;
        assertEquals(length, text.length() - alg.length() - 1);
        RegistryException e = assertThrows(RegistryException.class, () -> Digest.parse(text));
        assertEquals(ErrorCode.DIGEST_INVALID, e.code());
        assertThrows(
                RegistryException.class,
                () -> new Digest(DigestAlgorithm.fromPrefix(alg).orElseThrow(), text.substring(colon + 1)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"library/ubuntu", "a", "a/b/c", "my-app", "my__app", "my.app", "a0/b-1/c_2", "x--y"})
    void validRepositoryNames(String name) {
        assertEquals(name, RepositoryName.of(name).value());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "..",
                "../etc",
                "a/../b",
                "a/./b",
                "/abs",
                "a//b",
                "a/",
                "Upper",
                "a%2e%2e",
                "a%2fb",
                "a\\b",
                "-a",
                "a-",
                "a..b",
                "a/.hidden",
                ".",
                "a b",
                "a\u0000b"
            })
    void invalidRepositoryNamesAreNameInvalid(String name) {
        RegistryException e = assertThrows(RegistryException.class, () -> RepositoryName.of(name));
        assertEquals(ErrorCode.NAME_INVALID, e.code());
    }

    @Test
    void repositoryNameLengthIsBounded() {
        RepositoryName.of("a".repeat(255));
        assertThrows(RegistryException.class, () -> RepositoryName.of("a".repeat(256)));
    }

    @Test
    void referencesAreTagsOrDigests() {
        assertInstanceOf(Tag.class, Reference.parse("latest"));
        assertInstanceOf(Digest.class, Reference.parse("sha256:" + HEX64));
        assertThrows(RegistryException.class, () -> Reference.parse("-bad"));
        assertThrows(RegistryException.class, () -> Reference.parse("a".repeat(129)));
        assertThrows(RegistryException.class, () -> Reference.parse("sha256:zz"));
    }

    @Test
    void uploadIdsAreUuidsOnly() {
        UploadId.random();
        RegistryException e = assertThrows(RegistryException.class, () -> new UploadId("../../x"));
        assertEquals(ErrorCode.BLOB_UPLOAD_UNKNOWN, e.code());
    }
}
