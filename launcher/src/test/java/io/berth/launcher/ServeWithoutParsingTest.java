package io.berth.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The forms of {@code serve} read without picocli mean what picocli makes of them; others go to picocli. */
class ServeWithoutParsingTest {
    private static ServeCommand picocli(String... args) {
        CommandLine.ParseResult r = Main.commandLine(args).parseArgs(args);
        return (ServeCommand) r.subcommand().commandSpec().userObject();
    }

    @Test
    void theFormsReadDirectlyMeanWhatPicocliMakesOfThem() {
        List<String[]> forms = List.of(new String[] {"serve"}, new String[] {"serve", "-c", "berth.yaml"},
                new String[] {"serve", "--config", "/etc/berth/berth.yaml"},
                new String[] {"serve", "--config=conf/b.yaml"}, new String[] {"serve", "-c", "with space.yaml"});
        for (String[] args : forms) {
            ServeCommand direct = ServeCommand.withoutParsing(args);
            assertNotNull(direct, String.join(" ", args));
            assertEquals(picocli(args).config, direct.config, String.join(" ", args));
        }
    }

    @Test
    void everythingElseIsLeftToPicocli() {
        List<String[]> others = List.of(new String[0], new String[] {"serve", "--help"}, new String[] {"serve", "-h"},
                new String[] {"serve", "-V"}, new String[] {"serve", "-c"}, new String[] {"serve", "--config"},
                new String[] {"serve", "--config="}, new String[] {"serve", "-c", "--bogus"},
                new String[] {"serve", "bogus"}, new String[] {"serve", "-cberth.yaml"},
                new String[] {"serve", "-c", "a.yaml", "b"}, new String[] {"serve", "--bogus", "x"},
                new String[] {"serve", "-c", "a\u0000b"}, new String[] {"replicate"}, new String[] {"admin", "info"},
                new String[] {"--help"}, new String[] {"serv"});
        for (String[] args : others) {
            assertNull(ServeCommand.withoutParsing(args), String.join(" ", args));
        }
    }

    @Test
    void aCommandLineForOneCommandHoldsThatCommandAndHelpHoldsThemAll() {
        assertEquals(List.of("serve"), List.copyOf(Main.commandLine(new String[] {"serve", "--help"})
                .getSubcommands().keySet()));
        assertEquals(List.of("admin"), List.copyOf(Main.commandLine(new String[] {"admin", "info"})
                .getSubcommands().keySet()));
        assertEquals(List.of("serve", "replicate", "webhooks", "admin"), List.copyOf(Main.commandLine(
                new String[] {"--help"}).getSubcommands().keySet()));
        assertEquals(List.of("serve", "replicate", "webhooks", "admin"), List.copyOf(Main.commandLine(
                new String[] {"serv"}).getSubcommands().keySet()));
    }
}
