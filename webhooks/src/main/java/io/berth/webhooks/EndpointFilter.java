package io.berth.webhooks;

import io.berth.core.model.RepositoryGlob;
import io.berth.events.EventType;
import io.berth.events.RegistryEvent;
import java.util.List;
import java.util.Set;

/**
 * Which events an endpoint wants: its {@code actions}, {@code types}, {@code repositories} and
 * {@code media-types} (each empty means all). An event passes when it matches every non-empty list.
 */
final class EndpointFilter {
    private final Set<String> actions;
    private final List<RepositoryGlob> repositories;
    private final Set<String> mediaTypes;
    private final Set<EventType> types;

    EndpointFilter(WebhookConfig.Endpoint endpoint) {
        this.actions = endpoint.actions();
        this.repositories =
                endpoint.repositories().stream().map(RepositoryGlob::of).toList();
        this.mediaTypes = endpoint.mediaTypes();
        this.types = endpoint.types();
    }

    boolean accepts(RegistryEvent e) {
        String mediaType = e.data().target().mediaType();
        return (actions.isEmpty() || actions.contains(e.data().action()))
                && (types.isEmpty() || types.contains(e.eventType()))
                && RepositoryGlob.anyMatches(repositories, e.repository())
                && (mediaTypes.isEmpty() || (mediaType != null && mediaTypes.contains(mediaType)));
    }
}
