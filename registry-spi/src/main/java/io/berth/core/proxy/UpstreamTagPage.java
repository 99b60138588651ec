package io.berth.core.proxy;

import io.berth.core.model.Tag;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** One page of an upstream's tags, and the last tag to continue from when there are more. */
public record UpstreamTagPage(List<Tag> tags, Optional<String> next) {
    public UpstreamTagPage {
        tags = List.copyOf(tags);
        Objects.requireNonNull(next, "next");
    }
}
