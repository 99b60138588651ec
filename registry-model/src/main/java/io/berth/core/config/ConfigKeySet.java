package io.berth.core.config;

import java.util.List;
import java.util.Map;

/**
 * Configuration keys that a module owns (a storage backend's {@code storage.s3.*}, access control's
 * {@code auth.*}), found with {@link java.util.ServiceLoader} through
 * {@code META-INF/services/io.berth.core.config.ConfigKeySet}. {@link ConfigKeys#all()} holds the core
 * keys and the keys of every set installed, so a build without a module neither accepts nor lists
 * its keys, and the module, not the core, says what they are. An implementation has a public
 * constructor without arguments.
 */
public interface ConfigKeySet {
    /** The keys, in the order help and the docs list them. */
    List<ConfigKey> keys();

    /**
     * The name of the key these follow in {@link ConfigKeys#all()}: the place they always had, so
     * that {@code berth serve --help} lists every key in the same order whichever module owns it.
     */
    String after();

    /**
     * Values this set adds to {@link ConfigKey.Type#CHOICE} keys, by key name ({@code storage.type}:
     * {@code s3}): with the module left out, the value is refused as any unknown one is, in a line
     * that names the values installed.
     */
    default Map<String, List<String>> choices() {
        return Map.of();
    }

    /**
     * Structured sections this set owns ({@code proxy.upstreams}): a list of mappings in the file, kept
     * whole instead of being refused as a list, read with {@link BerthConfig#sections(String)}. The
     * environment variables under a section's name ({@code BERTH_PROXY_UPSTREAMS_HUB_PASSWORD}) are
     * the section's to read, not unknown ones.
     */
    default List<String> sections() {
        return List.of();
    }
}
