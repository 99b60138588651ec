package io.berth.admin;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.proto.admin.v1.RegistryAdminGrpc;
import io.grpc.MethodDescriptor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/admin-api.md documents every RPC of the service with a {@code berth admin} example. */
class AdminDocsTest {
    @Test
    void everyRpcHasARowWithACliExample() throws IOException {
        String page = Files.readString(Path.of("..", "docs", "admin-api.md"));
        for (MethodDescriptor<?, ?> m : RegistryAdminGrpc.getServiceDescriptor().getMethods()) {
            String row = "| `" + m.getBareMethodName() + "` | `berth admin ";
            assertTrue(page.contains(row), "docs/admin-api.md lacks the row " + row);
        }
    }
}
