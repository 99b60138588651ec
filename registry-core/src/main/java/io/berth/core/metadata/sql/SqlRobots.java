package io.berth.core.metadata.sql;

import io.berth.core.metadata.RobotRecord;
import io.berth.core.metadata.RobotRecords;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/** The SQL of {@link RobotRecords}. */
final class SqlRobots implements RobotRecords.Writes {
    private static final String ROBOT_COLUMNS =
            "SELECT name, secret_hash, repositories, actions, description," + " created_at, created_by FROM robots";

    private final SqlSession session;

    SqlRobots(SqlSession session) {
        this.session = session;
    }

    private static RobotRecord robot(ResultSet rs) throws SQLException {
        return new RobotRecord(
                rs.getString(1),
                rs.getString(2),
                List.of(rs.getString(3).split("\n")),
                List.of(rs.getString(4).split(",")),
                rs.getString(5),
                rs.getLong(6),
                rs.getString(7));
    }

    @Override
    public List<RobotRecord> all() {
        return session.query(ROBOT_COLUMNS + " ORDER BY name", ps -> {}, SqlRobots::robot);
    }

    @Override
    public Optional<RobotRecord> get(String name) {
        return session.queryOne(ROBOT_COLUMNS + " WHERE name = ?", ps -> ps.setString(1, name), SqlRobots::robot);
    }

    @Override
    public boolean insert(RobotRecord robot) {
        if (get(robot.name()).isPresent()) {
            return false;
        }
        session.update(
                "INSERT INTO robots (name, secret_hash, repositories, actions, description, created_at, created_by)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?)",
                ps -> {
                    ps.setString(1, robot.name());
                    ps.setString(2, robot.secretHash());
                    ps.setString(3, String.join("\n", robot.repositories()));
                    ps.setString(4, String.join(",", robot.actions()));
                    ps.setString(5, robot.description());
                    ps.setLong(6, robot.createdAt());
                    ps.setString(7, robot.createdBy());
                });
        return true;
    }

    @Override
    public boolean delete(String name) {
        return session.update("DELETE FROM robots WHERE name = ?", ps -> ps.setString(1, name)) > 0;
    }
}
