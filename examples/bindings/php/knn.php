<?php
// bebr from PHP's SQLite3 class (Debian's php-sqlite3). loadExtension() takes a file name inside
// sqlite3.extension_dir only, so run with that directory set:
//   php -d sqlite3.extension_dir=path/to/build knn.php bebr.so examples/data/bible
[, $ext, $data] = $argv;
$db = new SQLite3(':memory:');
$db->enableExceptions(true);
$db->loadExtension($ext);

$db->exec('CREATE VIRTUAL TABLE bible USING bebr(embedding float[1024], book text, chapter integer, '
        . '+passage text, bits=2, store_vectors=1)');
$base = file_get_contents("$data/base.f32");
$rows = array_slice(explode("\n", rtrim(file_get_contents("$data/passages.tsv"), "\n")), 1);
$insert = $db->prepare('INSERT INTO bible(rowid, embedding, book, chapter, passage) VALUES (?, ?, ?, ?, ?)');
$db->exec('BEGIN');
foreach ($rows as $line) {
    [$split, $r, $book, $chapter, $text] = explode("\t", $line);
    if ($split !== 'base') continue;
    $i = (int)$r;
    $insert->bindValue(1, $i, SQLITE3_INTEGER);
    $insert->bindValue(2, substr($base, $i * 4096, 4096), SQLITE3_BLOB);
    $insert->bindValue(3, $book, SQLITE3_TEXT);
    $insert->bindValue(4, (int)$chapter, SQLITE3_INTEGER);
    $insert->bindValue(5, $text, SQLITE3_TEXT);
    $insert->execute();
    $insert->reset();
}
$db->exec('COMMIT');

$query = file_get_contents("$data/queries.f32", false, null, 120 * 4096, 4096);
$select = $db->prepare("SELECT printf('%d %s %d %.4f %s', rowid, book, chapter, distance, substr(passage, 1, 60)) "
                     . 'FROM bible WHERE embedding MATCH ? AND k = 5 AND rescore = 40 AND chapter <= 10');
$select->bindValue(1, $query, SQLITE3_BLOB);
$result = $select->execute();
while ($row = $result->fetchArray(SQLITE3_NUM)) echo $row[0], "\n";
